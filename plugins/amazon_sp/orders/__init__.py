"""Orders: the `orders` and `order_items` streams (Orders v0) and `orders_2026` (Orders API 2026-01-01), and their
normalisers to the canonical `Order` (`normalise` for v0, `normalise_2026`).

Orders have their own reading loop in `source` (one pass feeds `orders` and `order_items`), so this family is
not in `catalogue`."""
