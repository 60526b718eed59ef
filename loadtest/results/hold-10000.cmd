loadtest hold --connections 10000 --duration 30
