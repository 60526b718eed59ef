loadtest fanout --connections 200 --rate 700 --duration 10
