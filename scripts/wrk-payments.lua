-- wrk script: POST /payments with a new payment id and user id per request
-- (ids on no risky list, so every variant does its full lookup).
--   wrk -t2 -c32 -d20s -s scripts/wrk-payments.lua http://127.0.0.1:18081
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  local user = 1 + (n * 2654435761) % 99999999999
  return wrk.format(nil, "/payments", nil,
    string.format('{"id":%d,"user_id":%d,"amount_cents":4200}', n, user))
end
