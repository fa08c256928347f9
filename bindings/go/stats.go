package ringlog

// #include "ringlog.h"
import "C"

// Counters are ringlog's counters since the runtime started (see
// ringlog_stats in include/ringlog.h). Fields are only ever added.
type Counters struct {
	// Logged counts records committed to a ring.
	Logged uint64
	// DroppedFull counts records dropped because a ring was full.
	DroppedFull uint64
	// RejectedTooLarge counts records refused as larger than half a ring.
	RejectedTooLarge uint64
	// RejectedInvalid counts records refused because a field could not be read.
	RejectedInvalid uint64
	// RejectedShutdown counts records refused after shutdown.
	RejectedShutdown uint64
	// Written counts records the flusher handed to the sinks.
	Written uint64
	// BytesWritten counts bytes the sinks accepted.
	BytesWritten uint64
	// WriteErrors counts failed sink writes or syncs.
	WriteErrors uint64
	// SinkPanics counts panics caught in encoders or sinks.
	SinkPanics uint64
	// Recovered counts records recovered from dead instances.
	Recovered uint64
	// RingHighWater is the most bytes the flusher found waiting in one ring.
	RingHighWater uint64
	// RingsActive is the number of rings registered now: one per OS
	// thread that has logged and not exited.
	RingsActive uint64
	// RingsReclaimed counts rings reclaimed after their thread exited.
	RingsReclaimed uint64
	// RecoveredInstances counts dead instances recovered.
	RecoveredInstances uint64
	// RecoveryBadFrames counts damaged frames recovery skipped.
	RecoveryBadFrames uint64
	// RecoveryBadFiles counts files recovery skipped whole.
	RecoveryBadFiles uint64
	// MetadataErrors counts logger definitions the metadata file could not take.
	MetadataErrors uint64
	// WriteRetries counts writes that retried data a sink had refused before.
	WriteRetries uint64
	// SyncErrors counts failed fsync/fdatasync calls.
	SyncErrors uint64
	// SinkFailures counts sinks given up after an error that cannot heal.
	SinkFailures uint64
	// Reopens counts file sinks reopened after a rename or deletion.
	Reopens uint64
	// Truncations counts file sinks found truncated under them.
	Truncations uint64
	// BytesLost counts encoded bytes failing sinks discarded.
	BytesLost uint64
	// RecordsLost counts records sinks discarded.
	RecordsLost uint64
	// BytesPending is the encoded bytes failing sinks hold for retry now.
	BytesPending uint64
}

// Stats returns the counters.
//
// # Errors
//
// An *Error with CodeState when ringlog was never started.
func Stats() (Counters, error) {
	var s C.ringlog_stats
	if rc, msg := cStats(&s); rc != 0 {
		return Counters{}, newError("Stats", rc, msg)
	}
	return Counters{
		Logged:             uint64(s.logged),
		DroppedFull:        uint64(s.dropped_full),
		RejectedTooLarge:   uint64(s.rejected_too_large),
		RejectedInvalid:    uint64(s.rejected_invalid),
		RejectedShutdown:   uint64(s.rejected_shutdown),
		Written:            uint64(s.written),
		BytesWritten:       uint64(s.bytes_written),
		WriteErrors:        uint64(s.write_errors),
		SinkPanics:         uint64(s.sink_panics),
		Recovered:          uint64(s.recovered),
		RingHighWater:      uint64(s.ring_high_water),
		RingsActive:        uint64(s.rings_active),
		RingsReclaimed:     uint64(s.rings_reclaimed),
		RecoveredInstances: uint64(s.recovered_instances),
		RecoveryBadFrames:  uint64(s.recovery_bad_frames),
		RecoveryBadFiles:   uint64(s.recovery_bad_files),
		MetadataErrors:     uint64(s.metadata_errors),
		WriteRetries:       uint64(s.write_retries),
		SyncErrors:         uint64(s.sync_errors),
		SinkFailures:       uint64(s.sink_failures),
		Reopens:            uint64(s.reopens),
		Truncations:        uint64(s.truncations),
		BytesLost:          uint64(s.bytes_lost),
		RecordsLost:        uint64(s.records_lost),
		BytesPending:       uint64(s.bytes_pending),
	}, nil
}
