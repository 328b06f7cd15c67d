"""The directory owns services (HealthcareService), the needs they serve, their opening hours,
their version history, the public search, the service map, and HSDS exchange.

The domain logic is split by concern; import from the submodule:
- `search`: filters and the public search query
- `opening`: opening hours, exceptions, public holidays, "open now", next opening
- `editing`: who may edit, create/update with a version per change, verification
- `maps`: the service map per municipality / helsefellesskap, as data, PDF and PNG
- `hsds`: Open Referral HSDS 3.0 export and import
- `reference`: the needs list import
- `demo`: the Vestfold demo data
"""
