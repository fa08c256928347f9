module ringlog.invalid/examples/go

go 1.24

require ringlog.invalid/ringlog v0.0.0

replace ringlog.invalid/ringlog => ../../bindings/go
