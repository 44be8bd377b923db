package evalguard

import (
	"context"
	"net/url"
	"strconv"
)

// Iter walks every item of a list endpoint, fetching the next page only when
// the previous one is used up:
//
//	it := client.AutoEval.Results(ctx, jobID, evalguard.OnlyFlagged)
//	for it.Next() {
//		r := it.Current()
//		…
//	}
//	if err := it.Err(); err != nil { … }
type Iter[T any] struct {
	ctx    context.Context
	c      *Client
	path   string
	query  url.Values
	keep   func(T) bool
	items  []T
	cur    T
	cursor string
	done   bool
	err    error
}

// ListOption tunes a list.
type ListOption func(url.Values)

// PageSize sets how many items each request asks for (1 to 1,000; the server's default is 100).
func PageSize(n int) ListOption {
	return func(q url.Values) { q.Set("limit", strconv.Itoa(n)) }
}

func newIter[T any](ctx context.Context, c *Client, path string, query url.Values, opts []ListOption) *Iter[T] {
	if query == nil {
		query = url.Values{}
	}
	for _, opt := range opts {
		opt(query)
	}
	return &Iter[T]{ctx: ctx, c: c, path: path, query: query}
}

// Next moves to the next item, fetching a page when needed; false at the end
// or on an error (see Err).
func (it *Iter[T]) Next() bool {
	for len(it.items) == 0 {
		if it.done || it.err != nil {
			return false
		}
		it.fetch()
	}
	it.cur, it.items = it.items[0], it.items[1:]
	return true
}

// Current is the item Next moved to.
func (it *Iter[T]) Current() T { return it.cur }

// Err is the error that ended the iteration, nil when it ran to the end.
func (it *Iter[T]) Err() error { return it.err }

// All reads every remaining item.
func (it *Iter[T]) All() ([]T, error) {
	var all []T
	for it.Next() {
		all = append(all, it.Current())
	}
	return all, it.Err()
}

func (it *Iter[T]) fetch() {
	query := url.Values{}
	for k, v := range it.query {
		query[k] = v
	}
	if it.cursor != "" {
		query.Set("cursor", it.cursor)
	}
	var p page[T]
	if err := it.c.Do(it.ctx, &RawRequest{Method: "GET", Path: it.path, Query: query}, &p); err != nil {
		it.err = err
		return
	}
	for _, item := range p.Data {
		if it.keep == nil || it.keep(item) {
			it.items = append(it.items, item)
		}
	}
	if p.NextCursor == nil || *p.NextCursor == "" {
		it.done = true
	} else {
		it.cursor = *p.NextCursor
	}
}
