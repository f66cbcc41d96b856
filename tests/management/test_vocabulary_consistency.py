"""The management vocabulary is a subset of the shared one (one source of truth for product names and classes)."""

from crsguard.management.vocabulary import Product, TherapyClass, therapy_class_of
from crsguard.model.vocabulary import PRODUCTS


def test_every_managed_product_is_a_shared_product_with_its_class() -> None:
    for product in Product:
        if product is Product.OTHER:
            assert therapy_class_of(product) is None
            continue
        assert product.value in PRODUCTS
        assert therapy_class_of(product) is TherapyClass(PRODUCTS[product.value].product_class)
