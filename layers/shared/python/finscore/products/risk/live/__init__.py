"""Live updates for dashboards: WebSocket connections and the risk changes pushed to them."""
