// ${{ values.serviceName }}: a small test skeleton, not the built-in golden path.
package main

import "fmt"

func main() { fmt.Println("${{ values.serviceName }} (${{ values.tier }})") }
