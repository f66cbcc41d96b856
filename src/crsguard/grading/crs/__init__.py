"""CRS grading systems of crs-grading.md §3, one module per system."""
