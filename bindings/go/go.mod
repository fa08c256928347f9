// The module path ends in the reserved .invalid domain on purpose: this
// module is not fetchable. Use it through a replace directive or a go.work
// file that points at this directory (see README.md).
module ringlog.invalid/ringlog

go 1.24
