-- hello.lua — the protected resource of the REST-auth API (/api/resource).
--
-- Answers {"data": "Hello, <user>!"} like Miguel Grinberg's REST-auth, where
-- <user> is the authenticated user name (r.user, set by mod_auth_jwt).
-- Mapped with:  LuaMapHandler "^/api/resource$" "/path/to/hello.lua"

-- JSON string escaping: '"' and '\' get a backslash, control characters
-- (and DEL) become \u00XX.  Everything else (UTF-8 included) passes through.
local function json_escape(s)
    return (s:gsub('[%c"\\]', function(c)
        if c == '"' then
            return '\\"'
        elseif c == '\\' then
            return '\\\\'
        end
        return string.format('\\u%04x', string.byte(c))
    end))
end

function handle(r)
    if r.method ~= "GET" and r.method ~= "HEAD" then
        r.status = 405
        r.headers_out["Allow"] = "GET, HEAD"
        r.content_type = "application/json"
        r:puts('{"error": "method not allowed"}\n')
        return apache2.OK
    end
    r.content_type = "application/json"
    r.headers_out["Cache-Control"] = "no-store"
    r:puts('{"data": "Hello, ' .. json_escape(r.user or "") .. '!"}\n')
    return apache2.OK
end
