wrk -t2 -c50 -d10s --latency -s loadtest/wrk/estimate.lua http://127.0.0.1:PORT
