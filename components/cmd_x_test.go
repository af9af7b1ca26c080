package components_test
import ("context";"os";"testing";"github.com/hlwasm/hlwasm/components";"github.com/hlwasm/hlwasm/host";"github.com/hlwasm/hlwasm/wasi")
func TestXCmd(t *testing.T){
 b,_:=os.ReadFile("/tmp/p2/cprog.component.wasm")
 ctx:=context.Background()
 rt,err:=host.NewRuntime(ctx, host.Config{}); if err!=nil{t.Fatal(err)}
 root,_:=os.OpenRoot("/tmp/p2/files")
 c,err:=components.LoadCommand(ctx, rt, b, wasi.Config{Args: []string{"cprog","/data/hello.txt","-ls","/data"}, Stdout: os.Stdout, Stderr: os.Stderr, Env: []string{"GREETING=hi"}, Preopens: []wasi.Preopen{{GuestPath:"/data", FS: root.FS()}}})
 if err!=nil{t.Fatal(err)}
 t.Log(c.Run(ctx))
}
