package store

import _ "embed" // the Lua scripts

// The Lua scripts of the Redis store, in lua/, each with its KEYS and ARGV
// described at its top. go:embed sets them and nothing assigns them: they
// are constants that embedding can only fill as variables.
var (
	//go:embed lua/append.lua
	appendLua string
	//go:embed lua/status.lua
	statusLua string
	//go:embed lua/save_plan.lua
	savePlanLua string
	//go:embed lua/save_incident.lua
	saveIncidentLua string
)
