"""Closed vocabularies shared by the patient state, the protocol files and the dose calculators.

Canonical drug and product names are those of interop.md §2.1 and §2.3; the list of products with rule sets is
management.md §0.1; the agents that are named but never dosed are management.md §4.7.
"""

from enum import StrEnum

from crsguard.model.toxicity import TherapyClass
from crsguard.model.vocabulary import PRODUCTS


class Product(StrEnum):
    """Products with a management rule set (management.md §0.1): a subset of the shared product vocabulary
    (`crsguard.model.vocabulary.PRODUCTS`, interop.md §2.3), which a test keeps in step.

    `other` stands for any product outside scope: the engine then gives generic information only, flagged
    "no product-specific rules" (management.md §0.1, §4.10).
    """

    AXICABTAGENE_CILOLEUCEL = "axicabtagene_ciloleucel"
    BREXUCABTAGENE_AUTOLEUCEL = "brexucabtagene_autoleucel"
    TISAGENLECLEUCEL = "tisagenlecleucel"
    LISOCABTAGENE_MARALEUCEL = "lisocabtagene_maraleucel"
    IDECABTAGENE_VICLEUCEL = "idecabtagene_vicleucel"
    CILTACABTAGENE_AUTOLEUCEL = "ciltacabtagene_autoleucel"
    TECLISTAMAB = "teclistamab"
    ELRANATAMAB = "elranatamab"
    TALQUETAMAB = "talquetamab"
    EPCORITAMAB = "epcoritamab"
    GLOFITAMAB = "glofitamab"
    MOSUNETUZUMAB = "mosunetuzumab"
    OTHER = "other"


def therapy_class_of(product: Product) -> TherapyClass | None:
    """The therapy class of a product, read from the shared product vocabulary (interop.md §2.3); None for an
    out-of-scope product (management.md §0.1)."""
    if product is Product.OTHER:
        return None
    return TherapyClass(PRODUCTS[product.value].product_class)


class Drug(StrEnum):
    """Drugs the engine can calculate a dose for or counts in dose histories (interop.md §2.1)."""

    TOCILIZUMAB = "tocilizumab"
    SILTUXIMAB = "siltuximab"
    ANAKINRA = "anakinra"
    DEXAMETHASONE = "dexamethasone"
    METHYLPREDNISOLONE = "methylprednisolone"
    HYDROCORTISONE = "hydrocortisone"
    ACETAMINOPHEN = "acetaminophen"
    LEVETIRACETAM = "levetiracetam"


CORTICOSTEROIDS = frozenset({Drug.DEXAMETHASONE, Drug.METHYLPREDNISOLONE, Drug.HYDROCORTISONE})
ANTI_IL6 = frozenset({Drug.TOCILIZUMAB, Drug.SILTUXIMAB})

# management.md §4.8 [R]: dexamethasone-equivalent factors (dose_mg × factor); display aid, never
# auto-converted.
DEXAMETHASONE_EQUIVALENT_FACTOR: dict[Drug, float] = {
    Drug.DEXAMETHASONE: 1.0,
    Drug.METHYLPREDNISOLONE: 0.1875,
    Drug.HYDROCORTISONE: 0.0375,
}


class NotDosedAgent(StrEnum):
    """management.md §4.7: the engine may name these as options but never calculates a dose."""

    RUXOLITINIB = "ruxolitinib"
    CYCLOPHOSPHAMIDE = "cyclophosphamide"
    ANTI_THYMOCYTE_GLOBULIN = "anti_thymocyte_globulin"
    INTRATHECAL_CHEMOTHERAPY = "intrathecal_chemotherapy"
    EMAPALUMAB = "emapalumab"
    ETOPOSIDE = "etoposide"
    IVIG = "ivig"
    ETANERCEPT = "etanercept"
    INFLIXIMAB = "infliximab"
    HYPEROSMOLAR_THERAPY = "hyperosmolar_therapy"
    VASOPRESSORS = "vasopressors"
    SEDATIVES = "sedatives"
    ANAESTHETIC_AGENTS = "anaesthetic_agents"


NOT_DOSED_MESSAGE = "specialist order; no calculated dose (management.md §4.7)"


class ResponseState(StrEnum):
    """management.md §1.5: improving / not improving / worsening."""

    IMPROVING = "improving"
    NOT_IMPROVING = "not_improving"
    WORSENING = "worsening"


class CrsStatus(StrEnum):
    """other-toxicities.md §7.7 / interop.md §1.5 `crs_status`."""

    NEVER = "never"
    ACTIVE = "active"
    RESOLVING = "resolving"
    RESOLVED = "resolved"
    REWORSENING_AFTER_THERAPY = "reworsening_after_therapy"


class DosePurpose(StrEnum):
    """Why a dose was given: treatment doses set the clocks of 1.5; all doses count in limits (A13)."""

    TREATMENT = "treatment"
    PROPHYLAXIS = "prophylaxis"
    PREMEDICATION = "premedication"


class Jurisdiction(StrEnum):
    """management.md §7.4 / A27: rule set for proximity and driving dates."""

    US = "us"
    EU = "eu"
