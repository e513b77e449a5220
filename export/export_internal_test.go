package export

// WithStreamAbove sets the distinct layer bytes from which a format 2
// export writes its bundle while converting (default 256 MiB).
func WithStreamAbove(n int64) Option { return func(o *options) { o.streamAbove = n } }
