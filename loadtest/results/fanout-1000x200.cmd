loadtest fanout --connections 1000 --rate 200 --duration 10
