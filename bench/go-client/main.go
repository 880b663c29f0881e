// The calls of bench/kube-requests.ts in Go, so the benchmark can show what one call costs in Go's runtime
// beside Node's on the same API server: through client-go's typed clientset (-client client-go, the version
// and client settings Flagger 1.44 runs with) or through the standard library alone (-client stdlib:
// net/http over HTTP/2, the answer decoded into generic values), the floor under client-go.
//
// The bearer token comes from BENCH_TOKEN, never from the command line. Prints one JSON line: the
// process's CPU (all threads, the garbage collector's included) per call over -requests calls made by
// -concurrency goroutines at once, after -warm-up calls that are not counted.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "go-client: "+format+"\n", args...)
	os.Exit(1)
}

func cpuMicros() int64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		fail("getrusage: %v", err)
	}
	return u.Utime.Sec*1e6 + int64(u.Utime.Usec) + u.Stime.Sec*1e6 + int64(u.Stime.Usec)
}

// seenProto keeps the protocol of the last answer, written by every goroutine that makes calls.
type seenProto struct {
	mu    sync.Mutex
	proto string
}

func (s *seenProto) set(proto string) {
	s.mu.Lock()
	s.proto = proto
	s.mu.Unlock()
}

func (s *seenProto) get() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proto
}

func main() {
	server := flag.String("server", "", "the API server's URL")
	caFile := flag.String("ca", "", "PEM file of the API server's CA")
	call := flag.String("call", "GET namespace", `"GET namespace" or "PATCH configmap"`)
	clientKind := flag.String("client", "stdlib", `"stdlib" or "client-go"`)
	requests := flag.Int("requests", 500, "calls measured")
	warmUp := flag.Int("warm-up", 50, "calls made first and not measured")
	concurrency := flag.Int("concurrency", 1, "calls in flight at once")
	flag.Parse()
	token := os.Getenv("BENCH_TOKEN")
	if *server == "" || *caFile == "" || token == "" {
		fail("-server, -ca and BENCH_TOKEN are required")
	}
	if *requests < 1 || *concurrency < 1 || *warmUp < 0 {
		fail("-requests and -concurrency must be positive, -warm-up not negative")
	}
	caPem, err := os.ReadFile(*caFile)
	if err != nil {
		fail("reading -ca: %v", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPem) {
		fail("-ca %s holds no PEM certificate", *caFile)
	}
	var do func(i int)
	proto := &seenProto{}
	switch *clientKind {
	case "stdlib":
		do = stdlibCall(*server, roots, token, *call, proto)
	case "client-go":
		do = clientGoCall(*server, caPem, token, *call, proto)
	default:
		fail(`-client %q: known clients are "stdlib" and "client-go"`, *clientKind)
	}
	for i := 0; i < *warmUp; i++ {
		do(i)
	}
	var next atomic.Int64
	var loops sync.WaitGroup
	before := cpuMicros()
	for range *concurrency {
		loops.Go(func() {
			for i := next.Add(1) - 1; i < int64(*requests); i = next.Add(1) - 1 {
				do(*warmUp + int(i))
			}
		})
	}
	loops.Wait()
	used := cpuMicros() - before
	out, _ := json.Marshal(map[string]any{"microsecondsPerCall": float64(used) / float64(*requests), "proto": proto.get()})
	fmt.Println(string(out))
}

// patchBody is the merge patch of call i, the same as the Node clients send.
func patchBody(i int) []byte {
	b, err := json.Marshal(map[string]any{"data": map[string]string{"i": fmt.Sprint(i)}})
	if err != nil {
		fail("encoding the patch: %v", err)
	}
	return b
}

func unknownCall(call string) {
	fail(`-call %q: known calls are "GET namespace" and "PATCH configmap"`, call)
}

// protoRecorder notes the protocol of each answer that passes through client-go's transport.
type protoRecorder struct {
	next  http.RoundTripper
	proto *seenProto
}

func (r protoRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := r.next.RoundTrip(req)
	if res != nil {
		r.proto.set(res.Proto)
	}
	return res, err
}

// clientGoCall makes the call through a typed clientset configured as Flagger's with -kubeconfig-qps=500
// -kubeconfig-burst=1000; it records the protocol the server answered with in proto.
func clientGoCall(server string, caPem []byte, token, call string, proto *seenProto) func(int) {
	config := &rest.Config{Host: server, BearerToken: token, TLSClientConfig: rest.TLSClientConfig{CAData: caPem}, QPS: 500, Burst: 1000}
	config.WrapTransport = func(next http.RoundTripper) http.RoundTripper { return protoRecorder{next, proto} }
	cs, err := kubernetes.NewForConfig(config)
	if err != nil {
		fail("client-go: %v", err)
	}
	ctx := context.Background()
	switch call {
	case "GET namespace":
		return func(int) {
			if _, err := cs.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
				fail("%s: %v", call, err)
			}
		}
	case "PATCH configmap":
		return func(i int) {
			if _, err := cs.CoreV1().ConfigMaps("default").Patch(ctx, "bench", types.MergePatchType, patchBody(i), metav1.PatchOptions{}); err != nil {
				fail("%s: %v", call, err)
			}
		}
	}
	unknownCall(call)
	return nil
}

// stdlibCall makes the call with net/http alone and decodes the answer into generic values; it records the
// protocol the server answered with in proto.
func stdlibCall(server string, roots *x509.CertPool, token, call string, proto *seenProto) func(int) {
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}}
	var method, path, contentType string
	switch call {
	case "GET namespace":
		method, path = http.MethodGet, "/api/v1/namespaces/default"
	case "PATCH configmap":
		method, path, contentType = http.MethodPatch, "/api/v1/namespaces/default/configmaps/bench", "application/merge-patch+json"
	default:
		unknownCall(call)
	}
	return func(i int) {
		var body io.Reader
		if method == http.MethodPatch {
			body = bytes.NewReader(patchBody(i))
		}
		req, err := http.NewRequest(method, server+path, body)
		if err != nil {
			fail("%s %s: %v", method, path, err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/json")
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		res, err := client.Do(req)
		if err != nil {
			fail("%s %s: %v", method, path, err)
		}
		text, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			fail("%s %s: reading the answer: %v", method, path, err)
		}
		if res.StatusCode < 200 || res.StatusCode > 299 {
			fail("%s %s: HTTP %d: %s", method, path, res.StatusCode, text)
		}
		var answer any
		if err := json.Unmarshal(text, &answer); err != nil {
			fail("%s %s: the answer is not JSON: %v", method, path, err)
		}
		proto.set(res.Proto)
	}
}
