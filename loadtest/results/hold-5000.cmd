loadtest hold --connections 5000 --duration 30
