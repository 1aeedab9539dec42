"""Every state change of the distributors list, as ``do_*`` actions taking ``*, acting_user``.

``membership``: applications, vouches, the team's decision and its members; ``sharing``: early
disclosure of a case and what members do with it; ``leaks``: embargoed information that got out.
Each action opens one transaction and writes one audit event; mail goes through the outbox.
"""


class DistributorError(ValueError):
    """A step the list's rules refuse; the text says which rule."""


class PolicyNotAcceptedError(DistributorError):
    """The member is not bound by the list's current embargo policy, so may not act on a case."""
