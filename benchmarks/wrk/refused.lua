-- Refused requests: the same paths, tokens and valid site keys as valid.lua, but each body
-- breaks its schema (an unknown key in the node and, where the resource has one, a URL that is
-- not a URL), so the sandbox runs its detailed-error path and answers 400 naming each key.
--
--   wrk -s refused.lua URL -- REQUESTS_FILE AUTHORIZATION
--
-- REQUESTS_FILE: see valid.lua; this script sends the fourth column, through valid.lua.

BODY_COLUMN = 4
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "valid.lua")
