"""CTCAE v5.0 organ, laboratory and neurological terms (other-toxicities.md §3, §6), one system per term."""
