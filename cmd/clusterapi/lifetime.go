package main

import (
	"flag"
	"fmt"
	"time"

	"clusterapi/internal/token"
)

// lifetimeFlags are the token lifetime policy flags, which serve and `token
// create` share: the policy applies to every token made, whichever way.
type lifetimeFlags struct {
	def, max *time.Duration
}

// addLifetimeFlags adds the policy flags to fs, defaulting to their
// environment variables.
func addLifetimeFlags(fs *flag.FlagSet, getenv func(string) string) (lifetimeFlags, error) {
	env := func(name string) (time.Duration, error) {
		v := getenv(name)
		if v == "" {
			return 0, nil
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		return d, nil
	}
	def, err := env("CLUSTERAPI_TOKEN_DEFAULT_LIFETIME")
	if err != nil {
		return lifetimeFlags{}, err
	}
	mx, err := env("CLUSTERAPI_TOKEN_MAX_LIFETIME")
	if err != nil {
		return lifetimeFlags{}, err
	}
	return lifetimeFlags{
		def: fs.Duration("token-default-lifetime", def,
			"lifetime of a token created without one, e.g. 720h; 0: never expires (env CLUSTERAPI_TOKEN_DEFAULT_LIFETIME)"),
		max: fs.Duration("token-max-lifetime", mx,
			"longest lifetime of a new token; longer ones are shortened to it; 0: no maximum (env CLUSTERAPI_TOKEN_MAX_LIFETIME)"),
	}, nil
}

// options returns the token service options with the policy, checked.
func (f lifetimeFlags) options(o token.Options) (token.Options, error) {
	o.DefaultLifetime, o.MaxLifetime = *f.def, *f.max
	if err := o.CheckLifetimes(); err != nil {
		return o, fmt.Errorf("--token-default-lifetime, --token-max-lifetime: %w", err)
	}
	return o, nil
}
