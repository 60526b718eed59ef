loadtest hold --connections 1000 --duration 30
