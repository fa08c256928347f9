package main

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// The inventory stands in for a library the service uses: it knows only
// log/slog, and logs through slog.Default(), which main points at
// ringlog. Passing the request's context carries its trace context.

var errNotFound = errors.New("no such item")

type item struct {
	SKU   string  `json:"sku"`
	Name  string  `json:"name"`
	Stock int     `json:"stock"`
	Price float64 `json:"price"`
}

var items = map[string]item{
	"sku-1": {"sku-1", "kettle", 12, 24.5},
	"sku-2": {"sku-2", "teapot", 0, 31},
	"sku-3": {"sku-3", "cups (6)", 40, 18.25},
}

// lookup finds an item, taking a little time as a real store would.
func lookup(ctx context.Context, sku string) (item, error) {
	start := time.Now()
	it, ok := items[sku]
	slog.Default().LogAttrs(ctx, slog.LevelDebug, "inventory lookup",
		slog.String("sku", sku), slog.Bool("found", ok), slog.Duration("took", time.Since(start)))
	if !ok {
		return item{}, errNotFound
	}
	if it.Stock == 0 {
		slog.Default().WarnContext(ctx, "item out of stock", "sku", sku)
	}
	return it, nil
}
