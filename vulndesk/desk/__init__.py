"""Pages that compose every domain, above all of them (the top of the layer order).

The desk home, "My work" (``my_work.py``), counts reports by the queue's conditions (cases) and
lists drafts waiting for review (advisories) and organisations waiting for a decision
(distributors); no domain imports this package.
"""
