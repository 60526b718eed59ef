loadtest fanout --connections 1000 --rate 100 --duration 15
