"""Domain logic of the care pathways; views, API, FHIR and commands call these modules."""
