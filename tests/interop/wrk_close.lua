-- wrk script of test_timewait_http.sh: every request asks the server to close the connection
-- after its response (RFC 9112 §9.6), and each thread stops after WRK_REQUESTS responses
-- (default 25000), so that the run ends at a count rather than after a time.
wrk.headers["Connection"] = "close"
local limit = tonumber(os.getenv("WRK_REQUESTS") or "25000")
local n = 0

function response(status, headers, body)
  n = n + 1
  if n >= limit then
    wrk.thread:stop()
  end
end
