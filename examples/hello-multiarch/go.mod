module hello-multiarch

go 1.19
