"""vulndesk: coordinated vulnerability disclosure for open-source projects."""
