loadtest request --connections 100 --inflight 8 --duration 10
