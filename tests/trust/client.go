// Fetches each URL given on the command line with net/http and the default transport (the
// system roots Go's crypto/x509 loads on Linux), printing one line per URL: "<url> ok" or
// "<url> fail: <reason>". Standard library only, so it builds offline.
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	client := &http.Client{Timeout: 10 * time.Second}
	for _, url := range os.Args[1:] {
		resp, err := client.Get(url)
		if err != nil {
			fmt.Printf("%s fail: %s\n", url, strings.ReplaceAll(err.Error(), "\n", " "))
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Printf("%s ok\n", url)
	}
}
