-- post.lua - wrk: POST one fixed body (read from $BODY) with the headers an AWS SDK sends
-- for the X-Amz-Target in $TARGET; counts non-200 answers apart.
local f = assert(io.open(os.getenv("BODY"), "rb"))
local body = f:read("*a")
f:close()
wrk.method = "POST"
wrk.path = "/"
wrk.body = body
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = os.getenv("TARGET")
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/" ..
  "kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" ..
  string.rep("0", 64)
wrk.headers["X-Amz-Date"] = "20260101T000000Z"

local bad = 0
response = function(status, headers, body)
  if status ~= 200 then
    bad = bad + 1
    if bad < 3 then io.stderr:write("status " .. status .. ": " .. body .. "\n") end
  end
end

done = function(summary, latency, requests)
  local ok = summary.requests - summary.errors.status
  io.write(string.format("requests %d errors(non-2xx) %d ok_per_s %.1f p50_ms %.2f p99_ms %.2f\n",
    summary.requests, summary.errors.status, ok / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
