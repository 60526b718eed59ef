loadtest mixed --connections 1000 --rate 100 --requesters 100 --inflight 4 --request-rate 2000 --duration 20 --sample-every 10
