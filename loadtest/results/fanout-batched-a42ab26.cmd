loadtest fanout --connections 1000 --rate 1000 --duration 10
