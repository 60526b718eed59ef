loadtest hold --connections 10000 --duration 600 --sample-every 10
