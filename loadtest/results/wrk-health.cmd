wrk -t2 -c50 -d10s --latency http://127.0.0.1:PORT/health
