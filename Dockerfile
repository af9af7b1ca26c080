# hlwasm serve: a static binary on distroless (no shell, no libc), running as nonroot.
#   docker build -t hlwasm:dev .
#   docker run --device /dev/kvm -p 8080:8080 -v hlwasm-data:/data hlwasm:dev
# The guest image is committed and embedded: the build needs only Go.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags='-s -w' -o /out/hlwasm ./cmd/hlwasm

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hlwasm /hlwasm
USER 65532:65532
EXPOSE 8080
VOLUME /data
ENTRYPOINT ["/hlwasm", "serve", "--listen", ":8080", "--data-dir", "/data"]
