package export

// WithStreamAbove sets the distinct layer bytes from which a format 2
// export writes its bundle while converting (default 256 MiB).
func WithStreamAbove(n int64) Option { return func(o *options) { o.streamAbove = n } }

// WithoutReuse has a format 2 export compress every run, borrowing
// nothing (the output bytes are the same).
func WithoutReuse() Option { return func(o *options) { o.noReuse = true } }
