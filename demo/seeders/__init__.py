"""One seeder module per area, each idempotent (a second run adds nothing):

- roster.py: `seed_demo_roster` (the synthetic roster), `seed_demo_complete_files`;
- enrollment.py: `seed_demo_enrollment`; committee.py: `seed_demo_committee`;
- verifications.py: `seed_demo_verifications`, `seed_demo_extractions`,
  `seed_demo_payer_contacts`;
- nppes.py: `seed_demo_nppes`; screening.py: `seed_demo_screening`;
- direct.py: the few writes no service does (bulk and back-dated history), one helper per app.
"""
