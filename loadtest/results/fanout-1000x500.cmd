loadtest fanout --connections 1000 --rate 500 --duration 10
