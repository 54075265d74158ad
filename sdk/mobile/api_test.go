package plexmobile_test

import (
	"go/types"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/tools/go/packages"
)

// TestAPIIsBindable type-checks the package and holds every exported
// function, method, field, interface method, constant and variable to
// the facade's rule (STYLE.md 13): only string, bool, int64, []byte, error
// (as the last result), and this package's own exported structs (by
// pointer) and interfaces. gomobile would silently skip anything else, and
// Java's long / Objective-C's int64_t is the one integer both agree on.
// The Objective-C snapshot check (sdk/ios/ci.sh) runs gobind itself.
func TestAPIIsBindable(t *testing.T) {
	pkgs, err := packages.Load(&packages.Config{Mode: packages.NeedName | packages.NeedTypes}, ".")
	require.NoError(t, err)
	require.Len(t, pkgs, 1)
	pkg := pkgs[0].Types
	require.Empty(t, pkgs[0].Errors)
	require.Equal(t, "plexmobile", pkg.Name(), "short package name: Java io.plexpush.plexmobile, ObjC Plexmobile*")

	own := func(n *types.Named) bool { return n.Obj().Pkg() == pkg && n.Obj().Exported() }
	value := func(t types.Type) bool {
		switch t := t.(type) {
		case *types.Basic:
			switch t.Kind() {
			case types.String, types.Bool, types.Int64:
				return true
			}
		case *types.Slice:
			b, ok := t.Elem().(*types.Basic)
			return ok && b.Kind() == types.Byte
		case *types.Pointer:
			n, ok := t.Elem().(*types.Named)
			return ok && own(n) && !types.IsInterface(n)
		case *types.Named:
			return own(t) && types.IsInterface(t)
		}
		return false
	}
	isError := func(t types.Type) bool { return types.Identical(t, types.Universe.Lookup("error").Type()) }
	var problems []string
	sig := func(where string, s *types.Signature) {
		for i := 0; i < s.Params().Len(); i++ {
			if p := s.Params().At(i); !value(p.Type()) {
				problems = append(problems, where+": parameter "+p.Name()+" "+p.Type().String())
			}
		}
		if s.Variadic() {
			problems = append(problems, where+": variadic")
		}
		r := s.Results()
		switch {
		case r.Len() > 2:
			problems = append(problems, where+": more than two results")
		case r.Len() == 2 && (!value(r.At(0).Type()) || !isError(r.At(1).Type())):
			problems = append(problems, where+": results must be (value, error)")
		case r.Len() == 1 && !value(r.At(0).Type()) && !isError(r.At(0).Type()):
			problems = append(problems, where+": result "+r.At(0).Type().String())
		}
	}
	scope := pkg.Scope()
	names := scope.Names()
	sort.Strings(names)
	for _, name := range names {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		switch obj := obj.(type) {
		case *types.Func:
			sig(name, obj.Type().(*types.Signature))
		case *types.Const:
			if b, ok := obj.Type().(*types.Basic); !ok || b.Info()&(types.IsInteger|types.IsString) == 0 {
				problems = append(problems, name+": constant of type "+obj.Type().String())
			}
		case *types.Var:
			problems = append(problems, name+": exported variable (gomobile binds it as a settable global)")
		case *types.TypeName:
			n := obj.Type().(*types.Named)
			switch u := n.Underlying().(type) {
			case *types.Struct:
				for i := 0; i < u.NumFields(); i++ {
					if f := u.Field(i); f.Exported() && !value(f.Type()) {
						problems = append(problems, name+"."+f.Name()+": field "+f.Type().String())
					}
				}
				ms := types.NewMethodSet(types.NewPointer(n))
				for i := 0; i < ms.Len(); i++ {
					if m := ms.At(i).Obj(); m.Exported() {
						sig(name+"."+m.Name(), m.Type().(*types.Signature))
					}
				}
			case *types.Interface:
				for i := 0; i < u.NumMethods(); i++ {
					m := u.Method(i)
					sig(name+"."+m.Name(), m.Type().(*types.Signature))
				}
			default:
				problems = append(problems, name+": type of kind "+u.String()+" (only structs and interfaces bind)")
			}
		}
	}
	require.Empty(t, problems, "not bindable:\n%s", strings.Join(problems, "\n"))
}
