// Package doccheck has no code: its tests keep the documentation honest.
// Every Go snippet of README.md is a whole file that compiles against this
// module, and the Markdown documents speak to users: their relative links
// stay inside the repository and resolve, and none refers to notes or
// issue numbers of the project's own work.
package doccheck
