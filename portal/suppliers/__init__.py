"""Suppliers of purchased parts (issue 12): their records (records.py), corrective action
requests with the supplier's one-time answer link (requests.py) and evidence files
(evidence.py), the scorecard (scorecard.py), and warranty status from shipment (warranty.py)."""
