package bundle

// WithoutShift has a Stream fit its head slot by copying the stream, as
// on a file system that cannot shift a file's start in place.
func WithoutShift() Option { return func(o *options) { o.noShift = true } }
