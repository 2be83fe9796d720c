"""Stock levels both ways: which system masters each SKU, and how a change moves without echoing back."""
