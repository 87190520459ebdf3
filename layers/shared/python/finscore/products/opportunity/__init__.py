"""The opportunity product: micro-investment opportunities in small businesses, scored by location."""
