loadtest connect --connections 5000
