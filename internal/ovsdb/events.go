package ovsdb

import (
	"sync"
)

// Handler receives cache events for one table. Rows are pointers to the table's model
// type (e.g. *nb.LogicalSwitch); each call gets its own copy, which the handler may keep
// or modify.
//
// Contract: handlers run on one dispatcher goroutine per client, one event at a time, in
// the order the cache changed. They never block the connection's reader (events are
// queued, without bound), but a slow handler delays every later event, and the queue
// grows meanwhile: do little work here, typically enqueue a key for a reconciler. A
// handler must not assume the cache still holds the row it was told about: by the time it
// runs the cache may have moved on. Nil callbacks are skipped.
type Handler struct {
	OnAdd    func(row any)
	OnUpdate func(old, new any)
	OnDelete func(row any)
}

type eventKind int

const (
	eventAdd eventKind = iota
	eventUpdate
	eventDelete
)

type event struct {
	ti       *tableInfo
	handlers []*Handler
	kind     eventKind
	old, new any // cache rows; never modified after they are stored, copied for handlers
}

// dispatcher runs handlers off the reader goroutine, in order.
type dispatcher struct {
	mu      sync.Mutex
	queue   []event
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	running bool // a batch is being delivered
}

func newDispatcher() *dispatcher {
	d := &dispatcher{
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go d.run()
	return d
}

func (d *dispatcher) push(e event) {
	d.mu.Lock()
	d.queue = append(d.queue, e)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// idle reports whether every queued event has been delivered.
func (d *dispatcher) idle() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.queue) == 0 && !d.running
}

func (d *dispatcher) close() {
	select {
	case <-d.stop:
	default:
		close(d.stop)
	}
	<-d.done
}

func (d *dispatcher) run() {
	defer close(d.done)
	for {
		select {
		case <-d.stop:
			return
		case <-d.wake:
		}
		for {
			d.mu.Lock()
			batch := d.queue
			d.queue = nil
			d.running = len(batch) > 0
			d.mu.Unlock()
			if len(batch) == 0 {
				break
			}
			for _, e := range batch {
				select {
				case <-d.stop:
					return
				default:
				}
				deliver(e)
			}
			d.mu.Lock()
			d.running = false
			d.mu.Unlock()
		}
	}
}

func deliver(e event) {
	for _, h := range e.handlers {
		switch e.kind {
		case eventAdd:
			if h.OnAdd != nil {
				h.OnAdd(e.ti.copyRow(e.new))
			}
		case eventUpdate:
			if h.OnUpdate != nil {
				h.OnUpdate(e.ti.copyRow(e.old), e.ti.copyRow(e.new))
			}
		case eventDelete:
			if h.OnDelete != nil {
				h.OnDelete(e.ti.copyRow(e.old))
			}
		}
	}
}
