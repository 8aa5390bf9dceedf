module tiuprender

go 1.19

require gopkg.in/yaml.v3 v3.0.1

// Debian's golang-gopkg-yaml.v3-dev; nothing is downloaded (GOPROXY=off).
replace gopkg.in/yaml.v3 => /usr/share/gocode/src/gopkg.in/yaml.v3
