package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
// It is 100 on every Linux architecture Go supports.
const clockTicks = 100

// procSample is one reading of a process's /proc files.
type procSample struct {
	at      time.Time
	rss     int64 // VmRSS, bytes
	hwm     int64 // VmHWM (peak RSS since the process started), bytes
	cpu     time.Duration
	threads int
}

// readProc reads /proc/<pid>/status and /proc/<pid>/stat ("self" for
// pid 0). It fails where /proc does not exist.
func readProc(pid int) (procSample, error) {
	dir := "/proc/self"
	if pid > 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	s := procSample{at: time.Now()}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return s, err
	}
	for _, line := range bytes.Split(status, []byte("\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		switch string(k) {
		case "VmRSS":
			s.rss = parseKB(v)
		case "VmHWM":
			s.hwm = parseKB(v)
		case "Threads":
			s.threads, _ = strconv.Atoi(string(bytes.TrimSpace(v)))
		}
	}
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return s, err
	}
	// The command name (field 2) is in parentheses and may hold spaces;
	// fields are counted after its closing parenthesis.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return s, fmt.Errorf("loadgen: unexpected %s/stat", dir)
	}
	f := bytes.Fields(stat[i+1:])
	// After ")": state is field 3, utime field 14, stime field 15.
	if len(f) < 13 {
		return s, fmt.Errorf("loadgen: short %s/stat", dir)
	}
	ut, _ := strconv.ParseInt(string(f[11]), 10, 64)
	st, _ := strconv.ParseInt(string(f[12]), 10, 64)
	s.cpu = time.Duration(ut+st) * time.Second / clockTicks
	return s, nil
}

func parseKB(v []byte) int64 {
	v = bytes.TrimSpace(v)
	v = bytes.TrimSuffix(v, []byte("kB"))
	n, _ := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
	return n * 1024
}

// sampler polls a process until stopped and keeps its first and last
// readings and the highest RSS seen.
type sampler struct {
	pid  int
	stop chan struct{}
	done chan struct{}

	mu          sync.Mutex
	first, last procSample
	maxRSS      int64
	err         error
}

func startSampler(pid int, every time.Duration) *sampler {
	s := &sampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				s.sample()
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *sampler) sample() {
	p, err := readProc(s.pid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.err == nil {
			s.err = err
		}
		return
	}
	if s.first.at.IsZero() {
		s.first = p
	}
	s.last = p
	if p.rss > s.maxRSS {
		s.maxRSS = p.rss
	}
}

// current returns the latest reading.
func (s *sampler) current() procSample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// finish stops the sampler and summarizes the run.
func (s *sampler) finish() *ProcStats {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := &ProcStats{PID: s.pid}
	if s.first.at.IsZero() {
		if s.err != nil {
			ps.Error = s.err.Error()
		}
		return ps
	}
	wall := s.last.at.Sub(s.first.at)
	ps.PeakRSSMB = mb(s.maxRSS)
	ps.HighWaterRSSMB = mb(s.last.hwm)
	ps.EndRSSMB = mb(s.last.rss)
	ps.CPUSeconds = (s.last.cpu - s.first.cpu).Seconds()
	if wall > 0 {
		ps.CPUPercent = 100 * ps.CPUSeconds / wall.Seconds()
	}
	ps.Threads = s.last.threads
	return ps
}

func mb(b int64) float64 { return float64(b) / 1e6 }
