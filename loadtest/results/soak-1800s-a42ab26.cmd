loadtest soak --connections 1000 --rate 20 --requesters 100 --inflight 1 --request-rate 200 --duration 1800 --sample-every 10 --timeout 120
