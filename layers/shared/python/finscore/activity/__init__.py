"""What each product served, hour by hour: the dashboard's traffic figures and score trends."""
